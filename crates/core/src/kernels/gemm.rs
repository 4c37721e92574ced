//! Placeholder GEMM (naive), replaced by the packed SIMD kernel.

pub fn gemm(m: usize, n: usize, k: usize, a: &[f32], trans_a: bool, b: &[f32], trans_b: bool, c: &mut [f32], accumulate: bool) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0f32;
            for p in 0..k {
                let av = if trans_a { a[p * m + i] } else { a[i * k + p] };
                let bv = if trans_b { b[j * k + p] } else { b[p * n + j] };
                s += av * bv;
            }
            c[i * n + j] = if accumulate { c[i * n + j] + s } else { s };
        }
    }
}
