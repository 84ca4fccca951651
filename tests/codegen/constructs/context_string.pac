# Context values of type `string`: bytes the host supplies (here a connection id), borrowed for
# `'a` like the events that carry them; `Context` gets a lifetime.
context {
    ## The packet's version.
    version: count,
    ## The destination connection id of the packet the frame came in.
    dcid: string,
}
type Close = record {
    error_code : uint16;
};
event close_frame(c: connection, version: count, dcid: string, error_code: count);
on Close if len($dcid) > 0 -> event close_frame($conn, $version, $dcid, self.error_code);
