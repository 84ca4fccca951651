enum ContentType : uint8 { alert = 21, handshake = 22 }

type Record = record {
    content_type : ContentType;
    body : case content_type of {
        ContentType::handshake -> hello : bytestring &restofdata;
    };
};
