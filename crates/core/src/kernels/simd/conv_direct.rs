//! wasm simd128 twin of `kernels::conv_direct`.

use core::arch::wasm32::*;

/// Output channels per register tile; with 8-wide strips that is 8 accumulators, and with the
/// 2 input vectors, 4 weight broadcasts and a temporary, V8's 15 free vector registers. A last
/// group of one or two channels (10 = 4 + 4 + 2) runs a 2-channel tile instead of computing
/// two channels of zeros.
const OC: usize = 4;

/// `kernels::conv_direct::conv_direct` after its set-up: `k` taps at input offsets `offs` (from
/// a strip's top-left pixel), row stride `w`, weights `[o, k]`. Each 8-wide strip of an output
/// row is computed for four channels at once; a row whose width is not a multiple of 8 ends
/// with a strip that overlaps the previous one (recomputing the same values). Needs `ow ≥ 8`.
#[allow(clippy::too_many_arguments)]
pub fn conv_direct(x: &[f32], w: usize, wt: &[f32], bias: Option<&[f32]>, o: usize, k: usize, offs: &[usize], oh: usize, ow: usize, out: &mut [f32]) {
    assert!(ow >= 8 && k > 0 && offs.len() == k && wt.len() >= o * k && out.len() >= o * oh * ow, "conv_direct: bad sizes");
    // Every load reads x[(y·w + x0) + off .. + 8] with y < oh, x0 + 8 ≤ ow: the largest index
    // read is bounded by the last output pixel's largest tap, which must lie inside `x`.
    let last = (oh - 1) * w + ow - 1 + offs.iter().copied().max().unwrap_or(0);
    assert!(oh == 0 || last < x.len(), "conv_direct: input too small");
    assert!(k <= super::super::conv_direct::MAX_TAPS, "conv_direct: too many taps");
    for oc0 in (0..o).step_by(OC) {
        let g = Group { x, w, wt, bias, k, offs, oh, ow, oc0, rows: OC.min(o - oc0) };
        if g.rows <= 2 {
            g.run::<2>(out);
        } else {
            g.run::<OC>(out);
        }
    }
}

/// Output channels `oc0..oc0 + rows` of `conv_direct`, the arguments checked by it.
struct Group<'a> {
    x: &'a [f32],
    w: usize,
    wt: &'a [f32],
    bias: Option<&'a [f32]>,
    k: usize,
    offs: &'a [usize],
    oh: usize,
    ow: usize,
    oc0: usize,
    rows: usize,
}

impl Group<'_> {
    /// The group as tiles of `R ≥ rows` channels × 8 pixels (channels past `rows` are zero).
    #[inline(always)]
    fn run<const R: usize>(&self, out: &mut [f32]) {
        let (k, oh, ow, oc0, rows) = (self.k, self.oh, self.ow, self.oc0, self.rows);
        // Weights of the group, tap-major ([t][r]) and zero for channels past `rows`.
        let mut wg = [0.0f32; super::super::conv_direct::MAX_TAPS * OC];
        for t in 0..k {
            for r in 0..rows {
                wg[t * R + r] = self.wt[(oc0 + r) * k + t];
            }
        }
        let mut bias = [f32x4_splat(0.0); R];
        for (r, b) in bias.iter_mut().enumerate().take(rows) {
            *b = f32x4_splat(self.bias.map_or(0.0, |b| b[oc0 + r]));
        }
        let xp = self.x.as_ptr();
        for y in 0..oh {
            let mut x0 = 0;
            loop {
                let x0c = x0.min(ow - 8);
                // SAFETY: x0c + 8 ≤ ow and y < oh, so the strip's first pixel is inside `x`
                // and every tap read stays inside it (the caller's `last` check).
                let acc = unsafe { strip::<R>(xp.add(y * self.w + x0c), self.offs.as_ptr(), wg.as_ptr(), k, &bias) };
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

/// One `R`-channel × 8-pixel tile: the bias plus every tap, pixel pairs of vectors per channel.
///
/// # Safety
/// `k > 0` taps (`conv_direct::applies`): `op` holds `k` input offsets and `wp` `k·R` weights; for each offset `off`,
/// `xb[off .. off + 8]` is readable.
#[inline(always)]
unsafe fn strip<const R: usize>(xb: *const f32, mut op: *const usize, mut wp: *const f32, k: usize, bias: &[v128; R]) -> [[v128; 2]; R] {
    let mut acc = [[f32x4_splat(0.0); 2]; R];
    for (a, &b) in acc.iter_mut().zip(bias) {
        *a = [b, b];
    }
    // One tap: 2 input vectors + R weight broadcasts + 2R accumulators + 1 temporary ≤ 15
    // registers, each tap a basic block of its own (see `unrolled_by_4`).
    macro_rules! tap {
        ($q:expr) => {{
            // SAFETY: tap `t + $q < k` (the loop exits before a tap past k): `op` reads
            // offs[t + $q] and `wp` reads R weights of that tap, and the input reads stay in
            // `xb[off .. off + 8]` (the function's contract). wasm loads need no alignment.
            let off = *op.add($q);
            let (v0, v1) = (v128_load(xb.add(off) as *const v128), v128_load(xb.add(off + 4) as *const v128));
            for (r, a) in acc.iter_mut().enumerate() {
                let wr = f32x4_splat(*wp.add(R * $q + r));
                a[0] = f32x4_add(a[0], f32x4_mul(v0, wr));
                a[1] = f32x4_add(a[1], f32x4_mul(v1, wr));
            }
        }};
    }
    // Taps remain past each round of four; the pointers stay within the offsets and weights.
    unrolled_by_4!(k, tap, {
        op = op.add(4);
        wp = wp.add(4 * R);
    });
    acc
}
