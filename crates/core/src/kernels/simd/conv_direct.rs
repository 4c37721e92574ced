//! wasm simd128 twin of `kernels::conv_direct`.

use core::arch::wasm32::*;

/// Output channels per register tile; with 8-wide strips that is 8 accumulators, and with the
/// 2 input vectors, 4 weight broadcasts and a temporary, V8's 15 free vector registers.
const OC: usize = 4;

/// `kernels::conv_direct::conv_direct` after its set-up: `k` taps at input offsets `offs` (from
/// a strip's top-left pixel), row stride `w`, weights `[o, k]`. Each 8-wide strip of an output
/// row is computed for four channels at once; a row whose width is not a multiple of 8 ends
/// with a strip that overlaps the previous one (recomputing the same values). Needs `ow ≥ 8`.
#[allow(clippy::too_many_arguments)]
pub fn conv_direct(x: &[f32], w: usize, wt: &[f32], bias: Option<&[f32]>, o: usize, k: usize, offs: &[usize], oh: usize, ow: usize, out: &mut [f32]) {
    assert!(ow >= 8 && offs.len() == k && wt.len() >= o * k && out.len() >= o * oh * ow, "conv_direct: bad sizes");
    // Every load reads x[(y·w + x0) + off .. + 8] with y < oh, x0 + 8 ≤ ow: the largest index
    // read is bounded by the last output pixel's largest tap, which must lie inside `x`.
    let last = (oh - 1) * w + ow - 1 + offs.iter().copied().max().unwrap_or(0);
    assert!(oh == 0 || last < x.len(), "conv_direct: input too small");
    assert!(k <= super::super::conv_direct::MAX_TAPS, "conv_direct: too many taps");
    let xp = x.as_ptr();
    // Weights of one channel group, tap-major ([t][r]) and zero for channels past `o`.
    let mut wg = [0.0f32; super::super::conv_direct::MAX_TAPS * OC];
    for oc0 in (0..o).step_by(OC) {
        let rows = OC.min(o - oc0);
        for t in 0..k {
            for r in 0..OC {
                wg[t * OC + r] = if r < rows { wt[(oc0 + r) * k + t] } else { 0.0 };
            }
        }
        let b = |r: usize| if r < rows { bias.map_or(0.0, |b| b[oc0 + r]) } else { 0.0 };
        let (b0, b1, b2, b3) = (f32x4_splat(b(0)), f32x4_splat(b(1)), f32x4_splat(b(2)), f32x4_splat(b(3)));
        for y in 0..oh {
            let mut x0 = 0;
            loop {
                let x0c = x0.min(ow - 8);
                let base = y * w + x0c;
                let (mut a00, mut a01, mut a10, mut a11) = (b0, b0, b1, b1);
                let (mut a20, mut a21, mut a30, mut a31) = (b2, b2, b3, b3);
                // SAFETY: x0c + 8 ≤ ow and y < oh, so the strip's first pixel is inside `x`.
                let xb = unsafe { xp.add(base) };
                let (mut op, mut wp) = (offs.as_ptr(), wg.as_ptr());
                // One tap: 2 input vectors + 4 weight broadcasts + 8 accumulators + 1 temporary
                // = 15 registers. Written out 4× with an exit test after each tap, as in the GEMM
                // kernel: each tap stays its own basic block, so V8 does not hoist the next
                // tap's loads into it and spill (LLVM's own unrolling of the plain loop did).
                macro_rules! tap {
                    ($q:expr) => {{
                        // SAFETY: tap `t + $q < k`: `op` reads offs[t + $q] (offs.len() = k) and
                        // `wp` reads wg[(t + $q)·4 .. + 4] < k·OC ≤ wg.len(); the input reads
                        // xb[off .. off + 8] end at base + off + 8 ≤ last + 1 ≤ x.len() (asserted
                        // above). wasm loads need no alignment.
                        let (v0, v1, w0, w1, w2, w3) = unsafe {
                            let off = *op.add($q);
                            (
                                v128_load(xb.add(off) as *const v128),
                                v128_load(xb.add(off + 4) as *const v128),
                                f32x4_splat(*wp.add(OC * $q)),
                                f32x4_splat(*wp.add(OC * $q + 1)),
                                f32x4_splat(*wp.add(OC * $q + 2)),
                                f32x4_splat(*wp.add(OC * $q + 3)),
                            )
                        };
                        a00 = f32x4_add(a00, f32x4_mul(v0, w0));
                        a01 = f32x4_add(a01, f32x4_mul(v1, w0));
                        a10 = f32x4_add(a10, f32x4_mul(v0, w1));
                        a11 = f32x4_add(a11, f32x4_mul(v1, w1));
                        a20 = f32x4_add(a20, f32x4_mul(v0, w2));
                        a21 = f32x4_add(a21, f32x4_mul(v1, w2));
                        a30 = f32x4_add(a30, f32x4_mul(v0, w3));
                        a31 = f32x4_add(a31, f32x4_mul(v1, w3));
                    }};
                }
                let mut left = k;
                while left > 0 {
                    tap!(0);
                    if left == 1 {
                        break;
                    }
                    tap!(1);
                    if left == 2 {
                        break;
                    }
                    tap!(2);
                    if left == 3 {
                        break;
                    }
                    tap!(3);
                    left -= 4;
                    // SAFETY: `left` taps remain past these four; the pointers stay within (or one
                    // past the end of) `offs` and `wg`.
                    unsafe {
                        op = op.add(4);
                        wp = wp.add(4 * OC);
                    }
                }
                let acc = [[a00, a01], [a10, a11], [a20, a21], [a30, a31]];
                for (r, pair) in acc.iter().enumerate().take(rows) {
                    let at = ((oc0 + r) * oh + y) * ow + x0c;
                    let dst = &mut out[at..at + 8];
                    // SAFETY: `dst` is a bounds-checked 8-float slice, exclusively borrowed.
                    unsafe {
                        v128_store(dst.as_mut_ptr() as *mut v128, pair[0]);
                        v128_store(dst.as_mut_ptr().add(4) as *mut v128, pair[1]);
                    }
                }
                x0 += 8;
                if x0 >= ow {
                    break;
                }
            }
        }
    }
}
