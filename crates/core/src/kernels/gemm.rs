//! Single-precision matrix multiply: `C = op(A)·op(B) (+ C)`.
//!
//! Large problems use the GotoBLAS/BLIS scheme: B is packed once per `KC`-deep slab into `NR`-wide
//! panels, A once per `MC`-tall block into `MR`-tall panels, and a register-blocked micro-kernel
//! multiplies one A panel by one B panel into an `MR×NR` tile of C. Packing is also where the
//! transposes are absorbed, so every layout runs the same micro-kernel at the same speed.
//! Tiny problems skip packing, whose fixed cost would dominate there.
//!
//! On wasm32 with simd128 the micro-kernel and the strided packers come from
//! `kernels::simd::gemm`; elsewhere (native tests) the portable versions below are used and
//! serve as the reference.

use std::cell::RefCell;

use super::reduce::dot;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::simd;

/// Rows of the C tile held in registers by the micro-kernel. V8 puts every value loaded in a
/// basic block in a register at once and leaves only xmm0–xmm14 free, so a tile of
/// `MR·NR/4` accumulators + `NR/4` B vectors + `MR` A broadcasts + 1 temporary must fit in 15:
/// 2×16 (8 + 4 + 2 + 1) and 4×8 (8 + 2 + 4 + 1) do, anything larger spills (measured: 3×12,
/// 5×8, 4×12 lose 25–50 %). Both kernels are in `simd::gemm` (set MR/NR to 4/8 to switch);
/// compared interleaved in one process (bench/gemm-variants.mjs) they were level within 3 % at
/// 256–1024 in every layout (29–31 GFLOPS on this shared machine), and 2×16 was ~8 % ahead on
/// short-m conv shapes (20×64×250), so 2×16 stays.
pub(crate) const MR: usize = 2;
/// Columns of the C tile: four f32x4 vectors, see `MR`.
pub(crate) const NR: usize = 16;
/// Depth of a packed slab. One B micro-panel is `KC·NR·4` = 16 KiB, so it stays in L1 while the
/// kernel sweeps the A panels of a block; deeper slabs amortise the C load/store per tile better.
pub(crate) const KC: usize = 256;
/// Rows of A packed at once: `MC·KC·4` = 128 KiB, which stays in L2 while it is reused for every
/// B micro-panel of the slab.
const MC: usize = 128;
/// Columns of B packed at once: `KC·NC·4` = 1 MiB (L3). It only bounds the scratch buffer; at
/// the sizes we run, n ≤ NC and B is packed exactly once per call.
const NC: usize = 1024;
/// At or below this many multiply-adds the plain loops win over packing (measured: 8×8×8); from
/// 16×16×16 up the packed kernel is 2–5× faster, even with ragged tiles.
const SMALL_MACS: usize = 512;

thread_local! {
    // Packing scratch, reused across calls so the hot path does not allocate.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACK_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// C (m×n, row-major, contiguous) = op(A)·op(B) (+ C when `accumulate`).
/// A is m×k row-major when !trans_a, or stored k×m row-major when trans_a (so op(A) = Aᵀ).
/// B is k×n row-major when !trans_b, or stored n×k row-major when trans_b.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    if nothing_to_multiply(m, n, k, c, accumulate) {
        return;
    }
    let c = &mut c[..m * n];
    let a = &a[..m * k];
    let b = &b[..k * n];

    // A single row of C (a vector–matrix product, e.g. 1×10×320) has nothing to reuse a packed
    // B panel for, so packing it would double the memory traffic.
    if m == 1 || m * n * k <= SMALL_MACS {
        gemm_small(m, n, k, a, trans_a, b, trans_b, c, accumulate);
        return;
    }

    gemm_source(m, n, k, a, trans_a, &Matrix { b, trans: trans_b, n, k }, c, accumulate);
}

/// An empty C, or k = 0 (C = 0, or unchanged when accumulating): true if that was all.
fn nothing_to_multiply(m: usize, n: usize, k: usize, c: &mut [f32], accumulate: bool) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 && !accumulate {
        c[..m * n].fill(0.0);
    }
    k == 0
}

/// Where op(B) comes from, one packed slab at a time: a matrix in memory, or an operand that is
/// never materialised (an image read as its im2col matrix, `im2col::Im2colPanels`).
pub trait PackB {
    /// Packs columns `jc..jc+nc`, depth `pc..pc+kc` of op(B) into `NR`-wide panels, panel after
    /// panel in `dst` (`round_up(nc, NR)·kc` floats): panel `r` holds, for each depth step, the
    /// `NR` values of columns `jc+r·NR..`, zero past the last column.
    fn pack_slab(&self, jc: usize, nc: usize, pc: usize, kc: usize, dst: &mut [f32]);
}

/// A row-major op(B): `b` is k×n, or n×k when `trans`.
struct Matrix<'a> {
    b: &'a [f32],
    trans: bool,
    n: usize,
    k: usize,
}

impl PackB for Matrix<'_> {
    fn pack_slab(&self, jc: usize, nc: usize, pc: usize, kc: usize, dst: &mut [f32]) {
        for (r, panel) in dst.chunks_exact_mut(kc * NR).enumerate() {
            let j0 = jc + r * NR;
            let cols = (nc - r * NR).min(NR);
            if !self.trans {
                // Row-major k×n: the NR values of one depth step are contiguous.
                pack_cols::<NR>(self.b, self.n, j0, cols, pc, kc, panel);
            } else {
                pack_rows::<NR>(self.b, self.k, j0, cols, pc, kc, panel);
            }
        }
    }
}

/// C (m×n) = op(A)·op(B) (+ C when `accumulate`) with op(B) packed by `b`, always through the
/// packed kernel. See `gemm` for the layout of A and C.
#[allow(clippy::too_many_arguments)]
pub fn gemm_source(m: usize, n: usize, k: usize, a: &[f32], trans_a: bool, b: &impl PackB, c: &mut [f32], accumulate: bool) {
    if nothing_to_multiply(m, n, k, c, accumulate) {
        return;
    }
    let c = &mut c[..m * n];
    let a = &a[..m * k];
    PACK_A.with(|pa| {
        PACK_B.with(|pb| {
            // Fresh scratch only if gemm were re-entered on this thread; stay correct anyway.
            let (mut own_a, mut own_b) = (Vec::new(), Vec::new());
            let (mut shared_a, mut shared_b) = (pa.try_borrow_mut().ok(), pb.try_borrow_mut().ok());
            let pack_a = shared_a.as_deref_mut().unwrap_or(&mut own_a);
            let pack_b = shared_b.as_deref_mut().unwrap_or(&mut own_b);
            gemm_packed(m, n, k, a, trans_a, b, c, accumulate, pack_a, pack_b)
        })
    });
}

/// Unpacked loops for tiny problems. Loop orders keep the innermost loop contiguous in memory
/// where the layout allows it (axpy over rows of B, or dot products of rows for A·Bᵀ).
#[allow(clippy::too_many_arguments)]
fn gemm_small(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    if !accumulate {
        c.fill(0.0);
    }
    if !trans_b {
        for (i, crow) in c.chunks_exact_mut(n).enumerate() {
            for (p, brow) in b.chunks_exact(n).enumerate() {
                let s = if trans_a { a[p * m + i] } else { a[i * k + p] };
                for (cv, bv) in crow.iter_mut().zip(brow) {
                    *cv += s * bv;
                }
            }
        }
    } else if !trans_a {
        for (arow, crow) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
            for (cv, brow) in crow.iter_mut().zip(b.chunks_exact(k)) {
                *cv += dot(arow, brow);
            }
        }
    } else {
        for (i, crow) in c.chunks_exact_mut(n).enumerate() {
            for (cv, brow) in crow.iter_mut().zip(b.chunks_exact(k)) {
                let mut s = 0.0f32;
                for (p, y) in brow.iter().enumerate() {
                    s += a[p * m + i] * y;
                }
                *cv += s;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn gemm_packed(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    trans_a: bool,
    b: &impl PackB,
    c: &mut [f32],
    accumulate: bool,
    pack_a: &mut Vec<f32>,
    pack_b: &mut Vec<f32>,
) {
    let kc_max = k.min(KC);
    let need_a = round_up(m.min(MC), MR) * kc_max;
    let need_b = round_up(n.min(NC), NR) * kc_max;
    if pack_a.len() < need_a {
        pack_a.resize(need_a, 0.0);
    }
    if pack_b.len() < need_b {
        pack_b.resize(need_b, 0.0);
    }

    for jc in (0..n).step_by(NC) {
        let nc = (n - jc).min(NC);
        for pc in (0..k).step_by(KC) {
            let kc = (k - pc).min(KC);
            // The first slab overwrites C unless the caller asked to accumulate.
            let overwrite = !accumulate && pc == 0;
            let bp = &mut pack_b[..round_up(nc, NR) * kc];
            b.pack_slab(jc, nc, pc, kc, bp);
            for ic in (0..m).step_by(MC) {
                let mc = (m - ic).min(MC);
                let ap = &mut pack_a[..round_up(mc, MR) * kc];
                pack_a_block(a, trans_a, m, k, ic, mc, pc, kc, ap);
                // jr outer, ir inner: one B micro-panel stays in L1 across the A panels.
                for (jr, bpanel) in bp.chunks_exact(kc * NR).enumerate() {
                    let col = jc + jr * NR;
                    let nr = (n - col).min(NR);
                    micro_column(kc, ap, bpanel, &mut c[ic * n + col..], n, mc, nr, overwrite);
                }
            }
        }
    }
}

#[inline]
fn round_up(x: usize, to: usize) -> usize {
    (x + to - 1) / to * to
}

/// One B panel against every A panel of a block: `C[0..mc, 0..nr] (+)= Ap·Bp`, `MR` rows at a
/// time, C starting at the column's top-left corner with row stride `ldc`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn micro_column(kc: usize, ap: &[f32], bp: &[f32], c: &mut [f32], ldc: usize, mc: usize, nr: usize, overwrite: bool) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::gemm::kernel_column(kc, ap, bp, c, ldc, mc, nr, overwrite);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for (r, apanel) in ap.chunks_exact(kc * MR).enumerate().take_while(|&(r, _)| r * MR < mc) {
        kernel_scalar(kc, apanel, bp, &mut c[r * MR * ldc..], ldc, (mc - r * MR).min(MR), nr, overwrite);
    }
}

/// Portable micro-kernel and reference for the SIMD one. `ap` holds `kc` groups of `MR` A values,
/// `bp` `kc` groups of `NR` B values (the packed layouts); `c` starts at the tile's top-left
/// corner with row stride `ldc`, and only its `mr×nr` part is written.
#[allow(clippy::too_many_arguments)]
#[allow(dead_code)]
pub(crate) fn kernel_scalar(
    kc: usize,
    ap: &[f32],
    bp: &[f32],
    c: &mut [f32],
    ldc: usize,
    mr: usize,
    nr: usize,
    overwrite: bool,
) {
    let mut acc = [[0.0f32; NR]; MR];
    for (av, bv) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)).take(kc) {
        for (row, &x) in acc.iter_mut().zip(av) {
            for (cv, &y) in row.iter_mut().zip(bv) {
                *cv += x * y;
            }
        }
    }
    for (i, row) in acc.iter().enumerate().take(mr) {
        let crow = &mut c[i * ldc..i * ldc + nr];
        if overwrite {
            crow.copy_from_slice(&row[..nr]);
        } else {
            for (cv, &v) in crow.iter_mut().zip(row) {
                *cv += v;
            }
        }
    }
}

/// Packs rows `ic..ic+mc`, depth `pc..pc+kc` of op(A) into `MR`-tall panels: panel `r` holds,
/// for each depth step, the `MR` values of rows `ic+r·MR..`, zero-padded past `m` so the kernel
/// never needs a row-edge case in its inner loop.
#[allow(clippy::too_many_arguments)]
fn pack_a_block(
    a: &[f32],
    trans_a: bool,
    m: usize,
    k: usize,
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    for (r, panel) in dst.chunks_exact_mut(kc * MR).enumerate() {
        let i0 = ic + r * MR;
        let rows = (mc - r * MR).min(MR);
        if trans_a {
            // Stored k×m: the MR values of one depth step are contiguous.
            pack_cols::<MR>(a, m, i0, rows, pc, kc, panel);
        } else {
            pack_rows::<MR>(a, k, i0, rows, pc, kc, panel);
        }
    }
}

/// Non-transposing pack of columns `c0..c0+cols` (`cols ≤ W`) over rows `pc..pc+kc` of a
/// row-major matrix with row length `ld`: `dst[p·W + w] = src[(pc+p)·ld + c0 + w]`, zero past
/// `cols`. Used for Aᵀ·… (A panels) and …·B (B panels).
#[inline]
fn pack_cols<const W: usize>(
    src: &[f32],
    ld: usize,
    c0: usize,
    cols: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if cols == W {
        simd::gemm::pack_cols_full::<W>(src, ld, c0, pc, kc, dst);
        return;
    }
    pack_cols_edge::<W>(src, ld, c0, cols, pc, kc, dst);
}

/// Portable version of `pack_cols`.
#[inline]
pub(crate) fn pack_cols_edge<const W: usize>(
    src: &[f32],
    ld: usize,
    c0: usize,
    cols: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    for (p, d) in dst[..kc * W].chunks_exact_mut(W).enumerate() {
        let s = (pc + p) * ld + c0;
        for (dv, &v) in d.iter_mut().zip(&src[s..s + cols]) {
            *dv = v;
        }
        for dv in &mut d[cols..] {
            *dv = 0.0;
        }
    }
}

/// Transposing pack of `rows ≤ W` rows (`r0..r0+rows`, each of length `ld`) over depth
/// `pc..pc+kc`, zero past `rows`: `dst[p·W + w] = src[(r0+w)·ld + pc + p]`. Used for A·…
/// (A panels) and …·Bᵀ (B panels).
#[inline]
fn pack_rows<const W: usize>(
    src: &[f32],
    ld: usize,
    r0: usize,
    rows: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::gemm::pack_rows_transposed::<W>(src, ld, r0, rows, pc, kc, dst);
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        pack_rows_edge::<W>(src, ld, r0, rows, pc, kc, dst);
    }
}

/// Portable transposing pack of `rows ≤ W` rows, zero-filling the missing ones.
#[inline]
pub(crate) fn pack_rows_edge<const W: usize>(
    src: &[f32],
    ld: usize,
    r0: usize,
    rows: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    pack_rows_edge_from::<W>(src, ld, r0, 0, rows, pc, kc, dst)
}

/// `pack_rows_edge` for lanes `from..W` only (the other lanes of `dst` are left as they are).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn pack_rows_edge_from<const W: usize>(
    src: &[f32],
    ld: usize,
    r0: usize,
    from: usize,
    rows: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    let dst = &mut dst[..kc * W];
    for w in from..W {
        if w < rows {
            let s = (r0 + w) * ld + pc;
            for (d, &v) in dst.chunks_exact_mut(W).zip(&src[s..s + kc]) {
                d[w] = v;
            }
        } else {
            for d in dst.chunks_exact_mut(W) {
                d[w] = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random values in [-1, 1).
    fn fill(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32) / ((1u64 << 23) as f32) - 1.0
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn naive(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        ta: bool,
        b: &[f32],
        tb: bool,
        c: &mut [f32],
        acc: bool,
    ) {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    let x = if ta { a[p * m + i] } else { a[i * k + p] };
                    let y = if tb { b[j * k + p] } else { b[p * n + j] };
                    s += x as f64 * y as f64;
                }
                let prev = if acc { c[i * n + j] as f64 } else { 0.0 };
                c[i * n + j] = (prev + s) as f32;
            }
        }
    }

    fn check(m: usize, n: usize, k: usize) {
        let a = fill(m * k, (m * 31 + k) as u64);
        let b = fill(k * n, (n * 17 + k) as u64 + 7);
        let c0 = fill(m * n, 99);
        for &ta in &[false, true] {
            for &tb in &[false, true] {
                for &acc in &[false, true] {
                    let mut want = c0.clone();
                    naive(m, n, k, &a, ta, &b, tb, &mut want, acc);
                    // Poison C when overwriting so stale values would show.
                    let mut got = if acc { c0.clone() } else { vec![f32::NAN; m * n] };
                    gemm(m, n, k, &a, ta, &b, tb, &mut got, acc);
                    let scale = (k as f32).sqrt().max(1.0);
                    for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                        let tol = 1e-4 * scale * (1.0 + w.abs());
                        assert!(
                            (g - w).abs() <= tol,
                            "m={m} n={n} k={k} ta={ta} tb={tb} acc={acc} at {idx}: got {g}, want {w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn edge_sizes() {
        let sizes = [1usize, 2, 3, 4, 5, 7, 8, 9, 17, 33];
        for &m in &sizes {
            for &n in &sizes {
                for &k in &sizes {
                    check(m, n, k);
                }
            }
        }
    }

    #[test]
    fn packed_path_edges() {
        // Above SMALL_MACS, crossing MR/NR/KC/MC boundaries with ragged remainders.
        for &(m, n, k) in &[
            (100, 100, 100),
            (33, 257, 17),
            (257, 33, 7),
            (129, 9, 300),
            (5, 1030, 5),
            (64, 10, 100),
            (1, 10, 320),
            (131, 67, 513),
            (3, 5, 2000),
            (1, 1, 20000),
        ] {
            check(m, n, k);
        }
    }

    #[test]
    fn larger_square() {
        check(257, 257, 257);
    }

    #[test]
    fn zero_dims() {
        let mut c = vec![5.0f32; 6];
        gemm(2, 3, 0, &[], false, &[], false, &mut c, true);
        assert!(c.iter().all(|&v| v == 5.0));
        gemm(2, 3, 0, &[], true, &[], true, &mut c, false);
        assert!(c.iter().all(|&v| v == 0.0));
        gemm(0, 3, 4, &[], false, &[0.0; 12], false, &mut [], false);
        gemm(3, 0, 4, &[0.0; 12], false, &[], false, &mut [], false);
        gemm(0, 0, 0, &[], false, &[], false, &mut [], false);
    }

    #[test]
    fn longer_slices_are_fine() {
        // Callers may pass views into bigger buffers; only the leading parts are used.
        let (m, n, k) = (30, 20, 40);
        let a = fill(m * k + 13, 1);
        let b = fill(k * n + 5, 2);
        let mut got = vec![1.0f32; m * n + 7];
        let mut want = got.clone();
        gemm(m, n, k, &a, false, &b, true, &mut got, false);
        naive(m, n, k, &a, false, &b, true, &mut want, false);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()) * 7.0);
        }
        assert_eq!(got[m * n..], [1.0f32; 7]);
    }
}
