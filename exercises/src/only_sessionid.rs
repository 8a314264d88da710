//! EXERCISE 1: where do the cookies live? This file is yours to edit.
//!
//! Since stage 3 the visit count and the time of the last visit stay on the
//! server, so a browser should be given one cookie only: `sessionid`, the key
//! to its session record. Prove it: write the check below. It gets the address
//! of a running Rango site; it should browse the site as a browser would,
//! keeping every cookie it is given, and then say whether the browser holds
//! anything but `sessionid`.
//!
//! The checks run your check against the stage 3 site, where it must pass,
//! and against sites that give the browser more (stage 2, which keeps the
//! count in cookies), where it must fail. Check your answer with `cargo
//! exercise` (from anywhere in the workspace). The exercises' README says
//! more.

// ANCHOR: only_sessionid
/// Browses the Rango site at `base` (`http://localhost:PORT`) with a browser
/// that keeps cookies, and fails, saying which cookies it found, unless the
/// browser ends up holding `sessionid` and nothing else.
#[allow(
    clippy::unused_async,
    reason = "your answer will `.await` its requests"
)]
pub async fn only_sessionid_reaches_the_browser(base: &str) -> Result<(), String> {
    // TODO (exercise 1):
    // 1. Make a browser that keeps cookies in a jar you can look into:
    //    `let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());`
    //    and a client built with `.cookie_provider(jar.clone())`.
    // 2. Visit every page the site has: /rango/, /rango/about/ and
    //    /rango/cookies/ (`format!("{base}/rango/")` is a URL).
    // 3. Ask the jar what it would send back (`reqwest::cookie::CookieStore`'s
    //    `cookies`, for `base` parsed as a URL): `"a=1; b=2"`. Return `Ok(())`
    //    if that is one cookie called `sessionid`, and an `Err` that names the
    //    cookies otherwise.
    let _ = base;
    Err("exercise 1 is not done yet: see exercises/src/only_sessionid.rs".into())
}
// ANCHOR_END: only_sessionid
