//! Slice loops: no tensors, no allocation on the hot path. SIMD twins live in
//! `simd/`, the only module allowed `unsafe`, compiled for wasm32 with simd128.

pub mod conv_direct;
pub mod gemm;
pub mod im2col;
pub mod pool;
pub mod reduce;
pub mod rnn;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd;
