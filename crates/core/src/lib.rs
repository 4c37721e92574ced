//! ferrograd's compute core: tensors, kernels and reverse-mode autograd, in pure Rust
//! with no dependencies. `Context` is the entry point; the wasm crate wraps it in a C ABI.

pub mod autograd;
pub mod buffer;
pub mod context;
pub mod error;
pub mod kernels;
pub mod ops;
pub mod rng;
pub mod shape;
pub mod tensor;

pub use buffer::DType;
pub use context::{Context, Id};
pub use error::{Error, Result};
pub use tensor::Tensor;
