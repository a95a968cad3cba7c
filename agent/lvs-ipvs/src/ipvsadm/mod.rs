//! ipvsadm's text: `ipvsadm-save -n` / `ipvsadm -R` rules, and plain ipvsadm
//! command lines as people write them in scripts. `import` replays such lines
//! against a table as the kernel would; `export` writes a table as rules.

mod args;
mod export;
mod import;

pub use export::{export, ExportWarning};
pub use import::{
    import, show_line, ImportError, ImportOptions, ImportWarning, Imported, Origin, Origins, ServiceOrigin,
    MAX_INPUT_BYTES, MAX_LINE_BYTES,
};
