type Hello = record {
    len_session : uint8;
    session_id  : bytestring &restofdata;
};
