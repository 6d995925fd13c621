mod catalog;
mod not_found;

pub use catalog::Catalog;
pub use not_found::NotFound;
