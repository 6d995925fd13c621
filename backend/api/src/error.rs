//! The one place where failures become what clients see: a GraphQL error with a stable
//! `extensions.code`, or an HTTP status with a JSON body. Internal causes are logged, never sent.

use async_graphql::ErrorExtensions;
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// Stable error codes shared by GraphQL (`extensions.code`) and HTTP bodies (`code`).
///
/// The first four are the codes GraphQL clients know from Apollo, for requests refused before any
/// resolver ran (or by the coercion of an argument); the others are Tributary's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The HTTP request is not a GraphQL request (a body that is not JSON, no `query`, …).
    BadRequest,
    /// The document is not GraphQL.
    GraphqlParseFailed,
    /// The document does not fit the schema or exceeds a limit (depth, complexity, aliases).
    GraphqlValidationFailed,
    /// An argument (literal or variable) does not coerce to its type, e.g. a malformed `UUID`.
    BadUserInput,
    /// A cap on concurrent use (e.g. open subscriptions) is reached.
    LimitExceeded,
    Unauthenticated,
    Forbidden,
    NotFound,
    Validation,
    Conflict,
    /// A schema that is valid but breaks the stream's compatibility level.
    IncompatibleSchema,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BAD_REQUEST",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Validation => "VALIDATION",
            Self::Conflict => "CONFLICT",
            Self::IncompatibleSchema => "INCOMPATIBLE_SCHEMA",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest
            | Self::GraphqlParseFailed
            | Self::GraphqlValidationFailed
            | Self::BadUserInput => StatusCode::BAD_REQUEST,
            Self::LimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict | Self::IncompatibleSchema => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as the API reports it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation {
        message: String,
        /// The input field the message is about, for forms to show it next to that field.
        field: Option<String>,
    },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{}", .0.join("; "))]
    IncompatibleSchema(Vec<String>),
    #[error("{0}")]
    Unavailable(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A cap on concurrent use is reached; the message names it.
    #[error("{0}")]
    LimitExceeded(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation { .. } | Self::PayloadTooLarge { .. } => ErrorCode::Validation,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::NotFound => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::IncompatibleSchema(_) => ErrorCode::IncompatibleSchema,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::LimitExceeded(_) => ErrorCode::LimitExceeded,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status for this error; usually the code's, more precise where HTTP has a word for it.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            other => other.code().status(),
        }
    }

    fn log(&self) {
        if let Self::Internal(source) = self {
            tracing::error!(error = %source, "internal error");
        }
    }
}

impl From<tributary_identity::IdentityError> for ApiError {
    fn from(value: tributary_identity::IdentityError) -> Self {
        use tributary_identity::IdentityError as E;
        match value {
            E::Validation { field, message } => Self::Validation {
                message: format!("{field} {message}"),
                field: Some(field.to_owned()),
            },
            e @ (E::InvalidCredentials | E::InvalidToken) => Self::Unauthenticated(e.to_string()),
            E::Forbidden => Self::Forbidden,
            E::NotFound => Self::NotFound,
            E::Conflict(message) => Self::Conflict(message),
            E::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            e @ (E::Database(_) | E::Internal(_)) => Self::Internal(Box::new(e)),
        }
    }
}

impl From<tributary_catalog::CatalogError> for ApiError {
    fn from(value: tributary_catalog::CatalogError) -> Self {
        use tributary_catalog::CatalogError as E;
        match value {
            E::Validation { field, message } => Self::Validation {
                // "must …" reads as a sentence once the field is named; others are sentences.
                message: if ["must ", "is ", "at most "]
                    .iter()
                    .any(|p| message.starts_with(p))
                {
                    format!("{field} {message}")
                } else {
                    message
                },
                field: Some(field.to_owned()),
            },
            E::Forbidden => Self::Forbidden,
            E::NotFound => Self::NotFound,
            E::Conflict(message) => Self::Conflict(message),
            E::IncompatibleSchema(messages) => Self::IncompatibleSchema(messages),
            E::Unavailable(message) => Self::Unavailable(message),
            e @ (E::Schema(_) | E::Database(_) | E::Internal(_)) => Self::Internal(Box::new(e)),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(value: sqlx::Error) -> Self {
        Self::Internal(Box::new(value))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(value: ApiError) -> Self {
        value.log();
        let code = value.code();
        let field = match &value {
            ApiError::Validation { field, .. } => field.clone(),
            _ => None,
        };
        let reasons = match &value {
            ApiError::IncompatibleSchema(reasons) => Some(reasons.clone()),
            _ => None,
        };
        let retry_after = match &value {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        async_graphql::Error::new(value.to_string()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(reasons) = &reasons {
                ext.set("reasons", reasons.clone());
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfterSeconds", secs);
            }
        })
    }
}

impl ErrorCode {
    /// Gives `error` this code unless it already carries one (a more precise one, from a resolver).
    pub fn stamp(self, mut error: async_graphql::ServerError) -> async_graphql::ServerError {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", self.as_str());
        }
        error
    }
}

/// Whether a GraphQL error already carries an `extensions.code`.
pub fn has_code(error: &async_graphql::ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// JSON body of every HTTP error: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let code = self.code();
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        (status, Json(body)).into_response()
    }
}
