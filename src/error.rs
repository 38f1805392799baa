//! The facade's error: any error of any kiln crate.

/// Every error kiln can return, so user code can use one `?` type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ir(#[from] kiln_ir::Error),
    #[error(transparent)]
    Build(#[from] kiln_ir::BuildError),
    #[error(transparent)]
    Parse(#[from] kiln_ir::ParseError),
    #[error(transparent)]
    Verify(#[from] kiln_ir::VerifyErrors),
    #[error(transparent)]
    Eval(#[from] kiln_ir::EvalError),
    #[error(transparent)]
    Compile(#[from] kiln_compiler::CompileError),
    #[error(transparent)]
    Runtime(#[from] kiln_runtime::RuntimeError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("{0}")]
    Io(String),
}
