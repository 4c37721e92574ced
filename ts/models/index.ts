// The models namespace: ready-made models from the lecture.

export { SingleNeuron, type SingleNeuronOptions, type FitOptions, type StepResult } from './single-neuron.js';
export { Perceptron } from './perceptron.js';
export { LinearSVM, type LinearSVMOptions } from './linear-svm.js';
export { LogisticRegression } from './logistic-regression.js';
