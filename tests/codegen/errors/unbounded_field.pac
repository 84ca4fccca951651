type Hello = record {
    version    : uint16;
    session_id : bytestring;
};
