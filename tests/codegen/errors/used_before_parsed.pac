type Hello = record {
    session_id  : bytestring &length = len_session;
    len_session : uint8;
};
