/// Runs `$step!(0)` … `$step!(3)` over `$n > 0` depth steps (taps), `$advance` moving the
/// pointers on by four after each full round. The exit test after every step is what keeps
/// each step in a basic block of its own: TurboFan hoists all the loads of a block to its
/// top, so two steps in one block would need twice the registers and spill, while the loop
/// back-edge and its stack check still run only once per four steps (PERF-NOTES.md).
macro_rules! unrolled_by_4 {
    ($n:expr, $step:ident, $advance:block) => {{
        let mut left: usize = $n;
        loop {
            $step!(0);
            if left == 1 {
                break;
            }
            $step!(1);
            if left == 2 {
                break;
            }
            $step!(2);
            if left == 3 {
                break;
            }
            $step!(3);
            left -= 4;
            if left == 0 {
                break;
            }
            $advance
        }
    }};
}

pub mod gemm;
pub mod pool;
pub mod copy;
pub mod reduce;
pub mod conv_direct;
