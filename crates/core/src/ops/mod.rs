//! One file per op family; each holds the forward, the backward next to it, and the
//! `Context` method that records it.

pub mod binary;
pub mod conv;
pub mod create;
pub mod index;
pub mod inplace;
pub mod join;
pub mod layout;
pub mod linear;
pub mod loss;
pub mod matmul;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod rnn;
pub mod softmax;
pub mod unary;
pub mod weighted_sum;
