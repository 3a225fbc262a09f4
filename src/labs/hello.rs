//! The `hello` lab: template programs (LABS.md). To be written.

pub(crate) fn tcp_server(_args: &[String]) -> i32 {
    2
}
pub(crate) fn tcp_client(_args: &[String]) -> i32 {
    2
}
pub(crate) fn udp_server(_args: &[String]) -> i32 {
    2
}
pub(crate) fn udp_client(_args: &[String]) -> i32 {
    2
}
