pub mod gemm;
pub mod pool;
pub mod copy;
pub mod dot;
pub mod conv_direct;
