pub mod gemm;
pub mod pool;
pub mod copy;
pub mod reduce;
pub mod conv_direct;
