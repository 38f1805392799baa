//! Every pass, one file each, and the table that maps names to passes (used by
//! the CLI, the pipeline, tests and error messages).

pub mod autodiff;
pub mod compact;
pub mod constant_fold;
pub mod cse;
pub mod dead_code;
pub mod fold_transpose;
pub mod optimizer;
pub mod simplify;

use crate::pass::Pass;

/// Makes a pass.
pub type Constructor = fn() -> Box<dyn Pass>;

/// `(name, constructor)` for every pass, in alphabetical order.
pub const ALL: &[(&str, Constructor)] = &[
    ("autodiff", || Box::new(autodiff::Autodiff)),
    ("compact", || Box::new(compact::Compact)),
    ("constant-fold", || Box::new(constant_fold::ConstantFold)),
    ("cse", || Box::new(cse::Cse)),
    ("dead-code", || Box::new(dead_code::DeadCode)),
    ("fold-transpose", || Box::new(fold_transpose::FoldTranspose)),
    ("optimizer", || Box::new(optimizer::LowerOptimizer)),
    ("simplify", || Box::new(simplify::Simplify)),
];

/// The pass called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Pass>> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, make)| make())
}

/// Every pass name.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|(n, _)| *n).collect()
}
