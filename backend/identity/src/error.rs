/// What can go wrong in identity operations. Messages are safe to show to the caller: none
/// reveals whether an account exists.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{field} {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("the token is invalid or expired")]
    InvalidToken,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl IdentityError {
    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }
}
