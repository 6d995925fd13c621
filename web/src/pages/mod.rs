mod auth;
mod not_found;
mod operator;
mod org;
mod stream_page;
mod streams;

pub use auth::{
    AcceptInvitationPage, ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage,
    VerifyEmailPage,
};
pub use not_found::NotFound;
pub use operator::OperatorClustersPage;
pub use org::OrganizationPage;
pub use stream_page::StreamPage;
pub use streams::{Catalog, MyStreamsPage, PublishWizardPage};
