//! The server's console: where `TEST COOKIE WORKED!` is printed.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

// ANCHOR: console
/// The server's console. Django's `print()` writes to the terminal running
/// `runserver`; here the server points this at stdout, and tests at a buffer
/// they read back.
#[derive(Clone)]
pub struct Console(Arc<Mutex<dyn Write + Send>>);

impl Console {
    /// A console that writes to this process's stdout.
    pub fn stdout() -> Self {
        Self(Arc::new(Mutex::new(io::stdout())))
    }

    /// A console that writes into a buffer, and what it has written.
    pub fn buffer() -> (Self, Printed) {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        (Self(buffer.clone()), Printed(buffer))
    }

    /// Writes one line. A console that cannot be written to is not worth
    /// failing a page for, so errors are only logged.
    pub fn println(&self, line: &str) {
        let mut out = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(%err, "could not write to the console");
        }
    }
}
// ANCHOR_END: console

impl Default for Console {
    fn default() -> Self {
        Self::stdout()
    }
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Console")
    }
}

/// What a [`Console::buffer`] console has printed so far.
#[derive(Debug, Clone)]
pub struct Printed(Arc<Mutex<Vec<u8>>>);

impl Printed {
    /// The lines printed so far, in order.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
