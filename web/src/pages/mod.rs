mod auth;
mod catalog;
mod not_found;
mod org;

pub use auth::{AcceptInvitationPage, SignInPage, SignUpPage, VerifyEmailPage};
pub use catalog::Catalog;
pub use not_found::NotFound;
pub use org::OrganizationPage;
