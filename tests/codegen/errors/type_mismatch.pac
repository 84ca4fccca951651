type Hello(is_client: bool) = record {
    len_session : uint8;
    session_id  : bytestring &length = len_session + is_client;
};
