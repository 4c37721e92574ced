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

/// The whole-vector part of `kernels::conv_direct::conv_direct_weight_grad`: for every output
/// row, pixels `0 .. 4·⌊ow/4⌋` (returned; the caller sums the rest). Tiles of 2 channels × 4
/// taps keep 8 accumulators over the whole sample: per 4 pixels, 2 gradient vectors and 4
/// input vectors (one per tap) feed 8 mul+adds, 15 registers as in the GEMM kernel. A missing
/// second channel or fourth tap repeats the last one, and its sums are dropped.
///
/// Called through a pointer read volatilely (as `gemm::kernel_column`): inlined into the
/// backward pass (wasm-opt inlines a function with one call site), TurboFan kept its pointers
/// and accumulators on the stack there, at half the speed.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn weight_grad(x: &[f32], w: usize, dy: &[f32], o: usize, k: usize, offs: &[usize], oh: usize, ow: usize, dwt: &mut [f32]) -> usize {
    // SAFETY: `WEIGHT_GRAD` is an initialised, aligned static that is never written; a volatile
    // read of it is an ordinary read that the optimisers may not fold.
    let f = unsafe { core::ptr::read_volatile(&WEIGHT_GRAD) };
    f(x, w, dy, o, k, offs, oh, ow, dwt)
}

type WeightGrad = fn(&[f32], usize, &[f32], usize, usize, &[usize], usize, usize, &mut [f32]) -> usize;
static WEIGHT_GRAD: WeightGrad = weight_grad_sweep;

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn weight_grad_sweep(x: &[f32], w: usize, dy: &[f32], o: usize, k: usize, offs: &[usize], oh: usize, ow: usize, dwt: &mut [f32]) -> usize {
    let vecs = ow / 4;
    if vecs == 0 || oh == 0 || o == 0 {
        return 0;
    }
    assert!(k > 0 && offs.len() == k && dy.len() >= o * oh * ow && dwt.len() >= o * k, "conv_direct weight grad: bad sizes");
    // The loads read x[y·w + 4v + off .. + 4] for y < oh, v < vecs: up to the last row's last
    // whole vector under the largest tap.
    let last = (oh - 1) * w + 4 * vecs - 1 + offs.iter().copied().max().unwrap_or(0);
    assert!(last < x.len(), "conv_direct weight grad: input too small");
    let plane = oh * ow;
    for oc0 in (0..o).step_by(2) {
        let oc1 = (oc0 + 1).min(o - 1);
        for t0 in (0..k).step_by(4) {
            let tap = |q: usize| offs[(t0 + q).min(k - 1)];
            // SAFETY: the gradient rows read dy[oc·plane + y·ow + 4v .. + 4] with oc < o, y < oh,
            // 4v + 4 ≤ ow, inside `dy` (asserted); the input reads are bounded by `last`.
            let acc = unsafe { tile(x.as_ptr(), w, dy.as_ptr().add(oc0 * plane), dy.as_ptr().add(oc1 * plane), [tap(0), tap(1), tap(2), tap(3)], oh, ow, vecs) };
            for (r, oc) in [oc0, oc1].into_iter().enumerate().take(oc1 - oc0 + 1) {
                for q in 0..(k - t0).min(4) {
                    dwt[oc * k + t0 + q] += super::reduce::lane_sum(acc[4 * r + q]);
                }
            }
        }
    }
    4 * vecs
}

/// Σ over the sample's whole vectors of `dy_r · x[· + tap_q]`, as `acc[4r + q]`.
///
/// # Safety
/// For y < oh and v < vecs, `dy0`/`dy1` must hold 4 floats at `y·ow + 4v` and `x` 4 floats at
/// `y·w + 4v + tap` for each tap.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn tile(x: *const f32, w: usize, dy0: *const f32, dy1: *const f32, taps: [usize; 4], oh: usize, ow: usize, vecs: usize) -> [v128; 8] {
    let z = f32x4_splat(0.0);
    let (mut a00, mut a01, mut a02, mut a03) = (z, z, z, z);
    let (mut a10, mut a11, mut a12, mut a13) = (z, z, z, z);
    for y in 0..oh {
        let (mut d0, mut d1) = (dy0.add(y * ow), dy1.add(y * ow));
        let row = x.add(y * w);
        let (mut x0, mut x1, mut x2, mut x3) = (row.add(taps[0]), row.add(taps[1]), row.add(taps[2]), row.add(taps[3]));
        // One group of 4 pixels: 2 + 4 loads, 8 accumulators, 1 temporary.
        macro_rules! step {
            ($q:expr) => {{
                // SAFETY: vector v + $q < vecs of row y (the loop exits before one past it);
                // the function's contract covers those reads.
                let (g0, g1) = (v128_load(d0.add(4 * $q) as *const v128), v128_load(d1.add(4 * $q) as *const v128));
                let (v0, v1) = (v128_load(x0.add(4 * $q) as *const v128), v128_load(x1.add(4 * $q) as *const v128));
                let (v2, v3) = (v128_load(x2.add(4 * $q) as *const v128), v128_load(x3.add(4 * $q) as *const v128));
                a00 = f32x4_add(a00, f32x4_mul(g0, v0));
                a01 = f32x4_add(a01, f32x4_mul(g0, v1));
                a02 = f32x4_add(a02, f32x4_mul(g0, v2));
                a03 = f32x4_add(a03, f32x4_mul(g0, v3));
                a10 = f32x4_add(a10, f32x4_mul(g1, v0));
                a11 = f32x4_add(a11, f32x4_mul(g1, v1));
                a12 = f32x4_add(a12, f32x4_mul(g1, v2));
                a13 = f32x4_add(a13, f32x4_mul(g1, v3));
            }};
        }
        // Vectors remain past each round of four, so the pointers stay inside their rows.
        unrolled_by_4!(vecs, step, {
            d0 = d0.add(16);
            d1 = d1.add(16);
            x0 = x0.add(16);
            x1 = x1.add(16);
            x2 = x2.add(16);
            x3 = x3.add(16);
        });
    }
    [a00, a01, a02, a03, a10, a11, a12, a13]
}
