pub use handover_domain::page::*;
