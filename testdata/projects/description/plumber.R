source("R/score.R")

#* Score an application
#* @param income:double Yearly income
#* @get /score
#* @serializer unboxedJSON
function(income = 0) {
  list(score = score(as.numeric(income)))
}

#* @assets ./www /static
list()
