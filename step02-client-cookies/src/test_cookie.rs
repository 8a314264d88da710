//! Django's test cookie: does this browser keep cookies at all?

use tower_sessions::Session;

/// What a session operation returns: the value, or why the store failed.
pub type SessionResult<T> = Result<T, tower_sessions::session::Error>;

// ANCHOR: test_cookie
/// Django's test-cookie helpers, as methods on the session.
///
/// The test cookie is not really a cookie of its own: it is a value stored in
/// the session. If the browser sends the session cookie back on the next
/// request, the value is found again and the browser is known to keep cookies.
pub trait TestCookie {
    /// Stores the test value (`request.session.set_test_cookie()`).
    fn set_test_cookie(&self) -> impl Future<Output = SessionResult<()>> + Send;
    /// Whether the test value came back (`request.session.test_cookie_worked()`).
    fn test_cookie_worked(&self) -> impl Future<Output = SessionResult<bool>> + Send;
    /// Removes the test value (`request.session.delete_test_cookie()`).
    fn delete_test_cookie(&self) -> impl Future<Output = SessionResult<()>> + Send;
}

const TEST_COOKIE_NAME: &str = "testcookie";
const TEST_COOKIE_VALUE: &str = "worked";

impl TestCookie for Session {
    async fn set_test_cookie(&self) -> SessionResult<()> {
        self.insert(TEST_COOKIE_NAME, TEST_COOKIE_VALUE).await
    }

    async fn test_cookie_worked(&self) -> SessionResult<bool> {
        let value: Option<String> = self.get(TEST_COOKIE_NAME).await?;
        Ok(value.as_deref() == Some(TEST_COOKIE_VALUE))
    }

    async fn delete_test_cookie(&self) -> SessionResult<()> {
        self.remove_value(TEST_COOKIE_NAME).await.map(drop)
    }
}
// ANCHOR_END: test_cookie
