// The optim namespace.

export { Optimizer, type ParamGroup, type Params, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export {
  LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, ReduceLROnPlateau,
  type ReduceLROnPlateauOptions, type SchedulableOptimizer,
} from './lr-scheduler.js';
