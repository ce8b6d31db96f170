# Serves the random forest that train.R fits on mtcars.
library(randomForest)

model <- readRDS("model.rds")

#* Predict a car's number of cylinders
#* @param mpg Miles per gallon
#* @param disp Displacement (cu.in.)
#* @param hp Gross horsepower
#* @param wt Weight (1000 lbs)
#* @get /prediction
#* @post /prediction
function(mpg = 21, disp = 160, hp = 110, wt = 2.62) {
  car <- data.frame(mpg = as.numeric(mpg), disp = as.numeric(disp),
                    hp = as.numeric(hp), wt = as.numeric(wt))
  as.character(predict(model, car))
}

#* Keep this R process busy for a while, to see requests spread over replicas
#* @param seconds How long to wait
#* @get /asynchronousTest
function(seconds = 1) {
  Sys.sleep(as.numeric(seconds))
  list(host = Sys.info()[["nodename"]], pid = Sys.getpid(), slept = as.numeric(seconds))
}
