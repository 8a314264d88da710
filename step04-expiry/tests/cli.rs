//! Stage 4 as a learner runs it: the real binary, its output and exit codes,
//! from the suite of what stages 3 and 4 both do (`rango_site::testing::suite::cli`).

rango_site::stage3_cli_behaviour!(
    bin: env!("CARGO_BIN_EXE_step04-expiry"),
    temp_dir: tempfile::tempdir().unwrap(),
);
