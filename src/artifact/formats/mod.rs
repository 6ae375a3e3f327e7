//! Format detection by magic bytes ([`sniff`]) and one parser per container
//! or header format. Pickle streams found inside them are handed to
//! [`super::pickle`].

pub(super) mod gguf;
pub(super) mod keras;
pub(super) mod numpy;
pub(super) mod onnx;
pub(super) mod pylit;
pub(super) mod safetensors;
pub(super) mod sniff;
pub(super) mod torch_tar;
pub(super) mod zip;
