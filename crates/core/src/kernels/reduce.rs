//! Dot products and sums of float32 slices. The one-accumulator loop is the only order LLVM
//! may keep for floats, and its add latency makes it ~10× slower than the four vector
//! accumulators of the SIMD twins (a different, pairwise-ish summation order).

/// `Σ a[i]·b[i]` over the shorter length.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return super::simd::reduce::dot(a, b);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `Σ x[i]`.
#[inline]
pub fn sum(x: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return super::simd::reduce::sum(x);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    x.iter().sum()
}
