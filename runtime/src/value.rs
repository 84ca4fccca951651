//! Zeek value types as event arguments see them, and the visitor that writes them out.
//!
//! Generated `SslEvent::visit` reports each argument as `field(name)` followed by exactly one value
//! call (a scalar, or a `begin_*`/`end_*` bracket around nested values). Output formats (JSON Lines,
//! text) implement [`ValueSink`]; nothing here allocates.

/// Receives the arguments of one event, or the fields of one Zeek record, in declaration order.
pub trait ValueSink {
    /// Names the value that follows (an event parameter or a record field).
    fn field(&mut self, name: &'static str);
    /// A Zeek `count`.
    fn count(&mut self, v: u64);
    /// A Zeek `int`.
    fn int(&mut self, v: i64);
    /// A Zeek `double`.
    fn double(&mut self, v: f64);
    /// A Zeek `bool`.
    fn boolean(&mut self, v: bool);
    /// A Zeek `string`: raw bytes, escaping is the sink's business.
    fn string(&mut self, v: &[u8]);
    /// A Zeek `time`, seconds since the epoch.
    fn time(&mut self, secs: f64);
    /// Opens a vector; elements follow without `field` calls.
    fn begin_vector(&mut self);
    /// Closes the innermost vector.
    fn end_vector(&mut self);
    /// Opens a Zeek record of the named type; its fields follow with `field` calls.
    fn begin_record(&mut self, type_name: &'static str);
    /// Closes the innermost record.
    fn end_record(&mut self);
}
