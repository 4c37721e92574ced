//! wasm simd128 micro-kernel and transposing packer for `kernels::gemm`.
//!
//! Shapes and loop structure follow what V8's TurboFan makes of them (see PERF-NOTES.md): it
//! hoists every load of a basic block to the block's top, so the register budget per k-step is
//! accumulators + loaded values + one temporary, and only xmm0–xmm14 are available.

use core::arch::wasm32::*;

use super::super::gemm::{kernel_scalar, pack_cols_edge, pack_rows_edge, pack_rows_edge_from, MR, NR};

// The driver's tile must be one of the kernels written out below.
const _: () = assert!((MR == 2 && NR == 16) || (MR == 4 && NR == 8));

type Column = fn(usize, &[f32], &[f32], &mut [f32], usize, usize, usize, bool);

/// The column sweep, called through a pointer (see `kernel_column`).
static COLUMN: Column = column;

/// `C[0..mc, 0..nr] (+)= Ap·Bp` for one B panel against every `MR`-row A panel of a packed block
/// (`ap`, panel after panel), C starting at the column's top-left corner with row stride `ldc`.
/// One call per column of tiles instead of one per tile saves the per-call set-up, which
/// measured 3–6 % on shallow (k = 25…64) products. `#[inline(never)]` only binds LLVM: wasm-opt
/// -O3 inlines a function with a single call site into the driver. Reading the pointer
/// volatilely makes the call indirect for both optimisers, so the sweep is one TurboFan
/// function that `--print-wasm-code` shows on its own, and the driver's loop variables do not
/// compete with its 15 vector registers.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn kernel_column(kc: usize, ap: &[f32], bp: &[f32], c: &mut [f32], ldc: usize, mc: usize, nr: usize, overwrite: bool) {
    // SAFETY: `COLUMN` is an initialised, aligned static that is never written; a volatile read
    // of it is an ordinary read that the optimisers may not fold.
    let f = unsafe { core::ptr::read_volatile(&COLUMN) };
    f(kc, ap, bp, c, ldc, mc, nr, overwrite)
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn column(kc: usize, ap: &[f32], bp: &[f32], c: &mut [f32], ldc: usize, mc: usize, nr: usize, overwrite: bool) {
    // Whole tiles first, in a sweep of their own (see `whole_tiles`); the bounds checked here
    // are what its unchecked loads and stores rely on.
    let whole = mc / MR;
    let mut first = 0;
    if whole > 0 && nr == NR && kc > 0 && bp.len() >= kc * NR && ap.len() >= whole * kc * MR && ldc >= NR && c.len() >= (whole * MR - 1) * ldc + NR {
        let sweep = if overwrite { &WHOLE_SET } else { &WHOLE_ADD };
        // SAFETY: as in `kernel_column`: initialised statics that are never written.
        let f = unsafe { core::ptr::read_volatile(sweep) };
        f(kc, &ap[..whole * kc * MR], bp, c, ldc);
        first = whole;
    }
    for (r, apanel) in ap.chunks_exact(kc * MR).enumerate().skip(first) {
        let row = r * MR;
        if row >= mc {
            break;
        }
        let (mr, ctile) = ((mc - row).min(MR), &mut c[row * ldc..]);
        if MR == 4 {
            kernel_4x8(kc, apanel, bp, ctile, ldc, mr, nr, overwrite);
        } else {
            kernel_2x16(kc, apanel, bp, ctile, ldc, mr, nr, overwrite);
        }
    }
}

type Whole = fn(usize, &[f32], &[f32], &mut [f32], usize);

/// The whole-tile sweeps, set and add, called through pointers like `COLUMN`.
static WHOLE_SET: Whole = whole_tiles::<false>;
static WHOLE_ADD: Whole = whole_tiles::<true>;

/// `C (+)= Ap·Bp` for every `MR`-row panel of `ap` against one full `NR`-wide B panel, C's
/// rows `ldc` apart. The caller has checked `kc > 0`, `bp.len() ≥ kc·NR`, `ldc ≥ NR` and
/// `c.len() ≥ (rows − 1)·ldc + NR` for the `rows` = MR·(panels) rows written. With nothing
/// to decide per tile (no ragged corner, no overwrite flag) the sweep keeps its loop variables
/// in registers: 12–15 % faster than the general column on L1-resident panels.
#[inline(never)]
fn whole_tiles<const ADD: bool>(kc: usize, ap: &[f32], bp: &[f32], c: &mut [f32], ldc: usize) {
    const V: usize = NR / 4;
    let cp = c.as_mut_ptr();
    for (r, apanel) in ap.chunks_exact(kc * MR).enumerate() {
        let acc = if MR == 4 { tile_4x8(kc, apanel, bp) } else { tile_2x16(kc, apanel, bp) };
        for i in 0..MR {
            for j in 0..V {
                // SAFETY: row r·MR + i < rows and column 4j + 4 ≤ NR, so the vector ends at or
                // before (rows − 1)·ldc + NR ≤ c.len() (the caller's check); `c` is exclusively
                // borrowed. wasm loads and stores have no alignment requirement.
                unsafe {
                    let q = cp.add((r * MR + i) * ldc + 4 * j) as *mut v128;
                    let v = acc[i * V + j];
                    v128_store(q, if ADD { f32x4_add(v128_load(q), v) } else { v });
                }
            }
        }
    }
}

/// Writes an `R×(4·V)` register tile (`acc[i·V + j]` = row i, columns 4j..4j+4) into C:
/// whole vectors for a full tile, the valid `mr×nr` corner through a local array otherwise.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn store_tile<const R: usize, const V: usize>(acc: &[v128], c: &mut [f32], ldc: usize, mr: usize, nr: usize, overwrite: bool) {
    let w = 4 * V;
    if acc.len() == R * V && mr == R && nr == w && ldc >= w && c.len() >= (R - 1) * ldc + w {
        let cp = c.as_mut_ptr();
        for i in 0..R {
            for j in 0..V {
                let v = acc[i * V + j];
                // SAFETY: this writes c[i·ldc + 4j .. i·ldc + 4j + 4] with i < R, j < V, and
                // i·ldc + 4V ≤ ·ldc + w ≤ c.len() (checked above); `c` is exclusively
                // borrowed, so nothing else aliases it.
                unsafe {
                    let q = cp.add(i * ldc + 4 * j) as *mut v128;
                    if overwrite {
                        v128_store(q, v);
                    } else {
                        v128_store(q, f32x4_add(v128_load(q), v));
                    }
                }
            }
        }
        return;
    }
    // Ragged edge tile: spill to a local array and write only the valid part.
    let mut tmp = [0.0f32; 64];
    for (t, v) in tmp.chunks_exact_mut(4).zip(acc) {
        t.copy_from_slice(&[f32x4_extract_lane::<0>(*v), f32x4_extract_lane::<1>(*v), f32x4_extract_lane::<2>(*v), f32x4_extract_lane::<3>(*v)]);
    }
    for i in 0..mr.min(R) {
        let crow = &mut c[i * ldc..i * ldc + nr.min(w)];
        let t = &tmp[i * w..i * w + nr.min(w)];
        if overwrite {
            crow.copy_from_slice(t);
        } else {
            for (cv, &v) in crow.iter_mut().zip(t) {
                *cv += v;
            }
        }
    }
}

/// `C[0..mr, 0..nr] (+)= Ap·Bp` for one 4×8 tile; same contract as `gemm::kernel_scalar`.
/// Per depth step: 2 B vectors + 4 A broadcasts + 8 accumulators + 1 temporary = 15 registers.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn kernel_4x8(kc: usize, ap: &[f32], bp: &[f32], c: &mut [f32], ldc: usize, mr: usize, nr: usize, overwrite: bool) {
    const R: usize = 4;
    const W: usize = 8;
    if kc == 0 || ap.len() < kc * R || bp.len() < kc * W {
        kernel_scalar(kc, ap, bp, c, ldc, mr, nr, overwrite);
        return;
    }
    store_tile::<R, 2>(&tile_4x8(kc, ap, bp), c, ldc, mr, nr, overwrite);
}

/// `Ap·Bp` for one 4×8 tile as 8 accumulators, row after row (`acc[2i + j]` = row i, columns
/// 4j..4j+4). The caller guarantees `kc > 0`, `ap.len() ≥ 4·kc` and `bp.len() ≥ 8·kc`.
#[inline(always)]
fn tile_4x8(kc: usize, ap: &[f32], bp: &[f32]) -> [v128; 8] {
    const R: usize = 4;
    const W: usize = 8;
    let z = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
    let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
    let mut a = ap.as_ptr();
    let mut b = bp.as_ptr();

    macro_rules! step {
        ($o:expr) => {{
            // SAFETY: `a`/`b` point at depth step `p` of the panels and this reads step
            // `p + $o < kc` (the loop exits before a step past kc); the panels hold `kc·4` and
            // `kc·8` floats (the caller's contract). wasm loads have no alignment requirement.
            let (b0, b1, a0, a1, a2, a3) = unsafe {
                (
                    v128_load(b.add(W * $o) as *const v128),
                    v128_load(b.add(W * $o + 4) as *const v128),
                    f32x4_splat(*a.add(R * $o)),
                    f32x4_splat(*a.add(R * $o + 1)),
                    f32x4_splat(*a.add(R * $o + 2)),
                    f32x4_splat(*a.add(R * $o + 3)),
                )
            };
            c00 = f32x4_add(c00, f32x4_mul(a0, b0));
            c01 = f32x4_add(c01, f32x4_mul(a0, b1));
            c10 = f32x4_add(c10, f32x4_mul(a1, b0));
            c11 = f32x4_add(c11, f32x4_mul(a1, b1));
            c20 = f32x4_add(c20, f32x4_mul(a2, b0));
            c21 = f32x4_add(c21, f32x4_mul(a2, b1));
            c30 = f32x4_add(c30, f32x4_mul(a3, b0));
            c31 = f32x4_add(c31, f32x4_mul(a3, b1));
        }};
    }

    unrolled_by_4!(kc, step, {
        // SAFETY: steps remain past these four, so the advanced pointers still point inside
        // the panels.
        unsafe {
            a = a.add(4 * R);
            b = b.add(4 * W);
        }
    });
    [c00, c01, c10, c11, c20, c21, c30, c31]
}

/// `C[0..mr, 0..nr] (+)= Ap·Bp` for one 2×16 tile; same contract as `gemm::kernel_scalar`
/// (which works for the driver's tile; this kernel is only called when that is 2×16).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn kernel_2x16(
    kc: usize,
    ap: &[f32],
    bp: &[f32],
    c: &mut [f32],
    ldc: usize,
    mr: usize,
    nr: usize,
    overwrite: bool,
) {
    // The driver always satisfies this; checking it here is what makes the raw loads below
    // sound without trusting the caller, and costs one predictable branch per tile.
    const R: usize = 2;
    const W: usize = 16;
    if kc == 0 || ap.len() < kc * R || bp.len() < kc * W {
        kernel_scalar(kc, ap, bp, c, ldc, mr, nr, overwrite);
        return;
    }
    store_tile::<R, 4>(&tile_2x16(kc, ap, bp), c, ldc, mr, nr, overwrite);
}

/// `Ap·Bp` for one 2×16 tile as 8 accumulators, row after row (`acc[4i + j]` = row i, columns
/// 4j..4j+4). The caller guarantees `kc > 0`, `ap.len() ≥ 2·kc` and `bp.len() ≥ 16·kc`.
#[inline(always)]
fn tile_2x16(kc: usize, ap: &[f32], bp: &[f32]) -> [v128; 8] {
    const R: usize = 2;
    const W: usize = 16;
    let z = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c02, mut c03) = (z, z, z, z);
    let (mut c10, mut c11, mut c12, mut c13) = (z, z, z, z);
    let mut a = ap.as_ptr();
    let mut b = bp.as_ptr();

    // One depth step: 4 B vectors + 2 A broadcasts + 8 accumulators + 1 temporary = 15
    // registers. `$o` is a constant so the B offsets fold into the x64 addressing modes.
    macro_rules! step {
        ($o:expr) => {{
            // SAFETY: `a`/`b` point at depth step `p` of the panels, and the loop only runs a
            // step `p + $o < kc`; the panels hold `kc·2` and `kc·16` floats (the caller's
            // contract), so A reads `a[2·$o..2·$o+2]` and B reads `b[16·$o..16·$o+16]` stay in
            // bounds. wasm loads have no alignment requirement.
            let (b0, b1, b2, b3, a0, a1) = unsafe {
                (
                    v128_load(b.add(16 * $o) as *const v128),
                    v128_load(b.add(16 * $o + 4) as *const v128),
                    v128_load(b.add(16 * $o + 8) as *const v128),
                    v128_load(b.add(16 * $o + 12) as *const v128),
                    f32x4_splat(*a.add(2 * $o)),
                    f32x4_splat(*a.add(2 * $o + 1)),
                )
            };
            c00 = f32x4_add(c00, f32x4_mul(a0, b0));
            c01 = f32x4_add(c01, f32x4_mul(a0, b1));
            c02 = f32x4_add(c02, f32x4_mul(a0, b2));
            c03 = f32x4_add(c03, f32x4_mul(a0, b3));
            c10 = f32x4_add(c10, f32x4_mul(a1, b0));
            c11 = f32x4_add(c11, f32x4_mul(a1, b1));
            c12 = f32x4_add(c12, f32x4_mul(a1, b2));
            c13 = f32x4_add(c13, f32x4_mul(a1, b3));
        }};
    }

    // Unrolled 4× with an exit test after every step: each step stays its own basic block (so
    // its loads are not hoisted together with the next step's, which would spill), while the
    // loop back-edge and its stack check run once per 4 steps. Plain unrolling measured slower.
    let mut p = 0;
    loop {
        step!(0);
        if p + 1 >= kc {
            break;
        }
        step!(1);
        if p + 2 >= kc {
            break;
        }
        step!(2);
        if p + 3 >= kc {
            break;
        }
        step!(3);
        p += 4;
        if p >= kc {
            break;
        }
        // SAFETY: p < kc, so the advanced pointers still point inside the panels
        // (at depth step p).
        unsafe {
            a = a.add(4 * R);
            b = b.add(4 * W);
        }
    }

    [c00, c01, c02, c03, c10, c11, c12, c13]
}

/// Transposing pack of `rows ≤ W` rows (W = 2 or a multiple of 4), zero past `rows`:
/// `dst[p·W + w] = src[(r0+w)·ld + pc + p]` for `p < kc`. Works on 4×4 blocks: four row loads,
/// an in-register transpose with shuffles, and four stores, instead of 16 scalar strided
/// moves; the rows of a last partial block (and the zero rows) go the portable way.
#[inline]
pub fn pack_rows_transposed<const W: usize>(
    src: &[f32],
    ld: usize,
    r0: usize,
    rows: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    // Bounds of every access below, checked once so the loads/stores can be unchecked.
    let fits = (W == 2 || W % 4 == 0)
        && rows > 0
        && rows <= W
        && (W != 2 || rows == 2)
        && dst.len() >= kc * W
        && (r0 + rows - 1)
            .checked_mul(ld)
            .and_then(|x| x.checked_add(pc + kc))
            .map_or(false, |end| end <= src.len());
    if !fits {
        pack_rows_edge::<W>(src, ld, r0, rows, pc, kc, dst);
        return;
    }
    let kc4 = kc / 4 * 4;
    let sp = src.as_ptr();
    let dp = dst.as_mut_ptr();
    if W == 2 {
        // Two rows: interleave four depth steps of each into two vectors.
        let base = r0 * ld + pc;
        let mut p = 0;
        while p < kc4 {
            // SAFETY: rows r0, r0+1 = r0+W-1 and columns pc+p .. pc+p+3 < pc+kc, so source
            // indices are < (r0+W-1)·ld + pc + kc ≤ src.len(); destination indices are
            // 2p .. 2p+8 ≤ 2·kc = kc·W ≤ dst.len(). `dst` is exclusively borrowed.
            unsafe {
                let x0 = v128_load(sp.add(base + p) as *const v128);
                let x1 = v128_load(sp.add(base + ld + p) as *const v128);
                let d = dp.add(2 * p);
                v128_store(d as *mut v128, i32x4_shuffle::<0, 4, 1, 5>(x0, x1));
                v128_store(d.add(4) as *mut v128, i32x4_shuffle::<2, 6, 3, 7>(x0, x1));
            }
            p += 4;
        }
        for p in kc4..kc {
            dst[2 * p] = src[base + p];
            dst[2 * p + 1] = src[base + ld + p];
        }
        return;
    }
    let whole = rows / 4 * 4;
    if whole < W {
        // Rows whole.. (a partial block, then zeros): the portable packer writes exactly those
        // lanes of every depth step, so it runs first and the blocks below fill the rest.
        pack_rows_edge_from::<W>(src, ld, r0, whole, rows, pc, kc, dst);
    }
    for g in (0..whole).step_by(4) {
        let base = (r0 + g) * ld + pc;
        // Four rows of kc floats become four lanes of kc depth steps.
        super::copy::transpose4_runs(&mut dst[g..], W, src, [base, base + ld, base + 2 * ld, base + 3 * ld], kc);
    }
}

/// Non-transposing pack of `W` (4 or 8) contiguous columns:
/// `dst[p·W + w] = src[(pc+p)·ld + c0 + w]` for `p < kc`, as whole-vector copies (the portable
/// loop would make a `memory.copy` per 16 or 32 bytes).
#[inline]
pub fn pack_cols_full<const W: usize>(
    src: &[f32],
    ld: usize,
    c0: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    let fits = W % 4 == 0
        && W > 0
        && kc > 0
        && dst.len() >= kc * W
        && (pc + kc - 1)
            .checked_mul(ld)
            .and_then(|x| x.checked_add(c0 + W))
            .map_or(false, |end| end <= src.len());
    if !fits {
        pack_cols_edge::<W>(src, ld, c0, W, pc, kc, dst);
        return;
    }
    let sp = src.as_ptr();
    let dp = dst.as_mut_ptr();
    for p in 0..kc {
        let s = (pc + p) * ld + c0;
        for w in (0..W).step_by(4) {
            // SAFETY: s + w + 4 ≤ (pc+kc-1)·ld + c0 + W ≤ src.len() and
            // p·W + w + 4 ≤ kc·W ≤ dst.len() (both checked above); `dst` is exclusively borrowed.
            unsafe {
                let v = v128_load(sp.add(s + w) as *const v128);
                v128_store(dp.add(p * W + w) as *mut v128, v);
            }
        }
    }
}
