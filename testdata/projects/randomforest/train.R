# Trains the model the API serves: a random forest that predicts a car's number of
# cylinders from mtcars. Run it once with `Rscript train.R`; it writes model.rds.
library(randomForest)

set.seed(2024)
cars <- mtcars
cars$cyl <- as.factor(cars$cyl)
model <- randomForest(cyl ~ mpg + disp + hp + wt, data = cars, ntree = 200)
saveRDS(model, "model.rds")
print(model)
