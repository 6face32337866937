//! A sealer that equivocates on purpose, for the fault suite only.
//!
//! In a `synod` built with the `byzantine-test` feature, setting `SYNOD_EQUIVOCATE=1` when the node starts makes its
//! consensus host sign and broadcast, under its own key:
//! - before every vote it publishes, a conflicting vote of the same height, round and kind (for nil when the real
//!   vote is for a block, for a block that does not exist when the real vote is nil);
//! - after every proposal it publishes, a second proposal of the same height and round for a block that does not
//!   exist.
//!
//! Honest nodes must keep safety (one chain) and liveness (one faulty sealer of four), and record the equivocation
//! as evidence. A `synod` built without the feature refuses to start when the variable is set, so a node never
//! believes it is being tested when it is not. Release builds of the `synod` package alone do not have it; the
//! workspace's test build does (the `e2e` crate asks for it), unarmed unless the variable is set. The hostile
//! observer ([`crate::hostile`]) is armed and refused the same way, by its own variable.

/// The environment variable that arms equivocation.
pub const ENV: &str = "SYNOD_EQUIVOCATE";

/// Whether this process equivocates: built with the feature and armed by [`ENV`]`=1`. Read once.
pub fn armed() -> bool {
    static ARMED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ARMED.get_or_init(|| flag_set(ENV))
}

/// Refuses an environment that asks for equivocation this build cannot do, or a value other than `1`.
pub fn check_environment() -> Result<(), String> {
    check_flag(ENV)
}

/// Whether the test-only behaviour armed by `env` is on: built with the `byzantine-test` feature and `env` is `1`.
/// Always false in a build without the feature, whatever the environment.
pub(crate) fn flag_set(env: &str) -> bool {
    cfg!(feature = "byzantine-test") && std::env::var(env).is_ok_and(|v| v == "1")
}

/// Refuses `env` set in a build without the `byzantine-test` feature, or set to anything but `1`.
pub(crate) fn check_flag(env: &str) -> Result<(), String> {
    match std::env::var(env) {
        Err(_) => Ok(()),
        Ok(value) if !cfg!(feature = "byzantine-test") => Err(format!(
            "{env}={value:?} is set, but this synod was built without the byzantine-test feature: unset it"
        )),
        Ok(value) if value != "1" => Err(format!("{env}={value:?}: the only value is 1")),
        Ok(_) => Ok(()),
    }
}
