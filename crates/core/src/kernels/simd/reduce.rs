//! wasm simd128 twins of `kernels::reduce`.

use core::arch::wasm32::*;

/// `Σ a[i]·b[i]` over the shorter length. Four vector accumulators (16 partial sums) hide the
/// add latency that makes the one-accumulator scalar loop (the only order LLVM may keep) ~10×
/// slower; the partial sums are added pairwise at the end.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let z = f32x4_splat(0.0);
    let (mut s0, mut s1, mut s2, mut s3) = (z, z, z, z);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 ≤ n ≤ a.len(), b.len(); wasm loads have no alignment requirement.
        unsafe {
            s0 = f32x4_add(s0, f32x4_mul(v128_load(pa.add(i) as *const v128), v128_load(pb.add(i) as *const v128)));
            s1 = f32x4_add(s1, f32x4_mul(v128_load(pa.add(i + 4) as *const v128), v128_load(pb.add(i + 4) as *const v128)));
            s2 = f32x4_add(s2, f32x4_mul(v128_load(pa.add(i + 8) as *const v128), v128_load(pb.add(i + 8) as *const v128)));
            s3 = f32x4_add(s3, f32x4_mul(v128_load(pa.add(i + 12) as *const v128), v128_load(pb.add(i + 12) as *const v128)));
        }
        i += 16;
    }
    while i + 4 <= n {
        // SAFETY: i + 4 ≤ n ≤ a.len(), b.len().
        unsafe {
            s0 = f32x4_add(s0, f32x4_mul(v128_load(pa.add(i) as *const v128), v128_load(pb.add(i) as *const v128)));
        }
        i += 4;
    }
    let mut total = lane_sum(f32x4_add(f32x4_add(s0, s1), f32x4_add(s2, s3)));
    for k in i..n {
        total += a[k] * b[k];
    }
    total
}

/// `Σ x[i]` with four vector accumulators, like `dot`.
#[inline]
pub fn sum(x: &[f32]) -> f32 {
    let n = x.len();
    let p = x.as_ptr();
    let z = f32x4_splat(0.0);
    let (mut s0, mut s1, mut s2, mut s3) = (z, z, z, z);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 ≤ n = x.len(); wasm loads have no alignment requirement.
        unsafe {
            s0 = f32x4_add(s0, v128_load(p.add(i) as *const v128));
            s1 = f32x4_add(s1, v128_load(p.add(i + 4) as *const v128));
            s2 = f32x4_add(s2, v128_load(p.add(i + 8) as *const v128));
            s3 = f32x4_add(s3, v128_load(p.add(i + 12) as *const v128));
        }
        i += 16;
    }
    while i + 4 <= n {
        // SAFETY: i + 4 ≤ n = x.len().
        unsafe { s0 = f32x4_add(s0, v128_load(p.add(i) as *const v128)) };
        i += 4;
    }
    let mut total = lane_sum(f32x4_add(f32x4_add(s0, s1), f32x4_add(s2, s3)));
    for v in &x[i..] {
        total += v;
    }
    total
}

/// The four lanes of `v` added pairwise: `(v0 + v1) + (v2 + v3)`.
#[inline(always)]
pub fn lane_sum(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}
