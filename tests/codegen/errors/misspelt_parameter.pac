# A record parameter misspelt where it is used: the help line names the parameter.
enum HandshakeType : uint8 { client_hello = 1, server_hello = 2 }

type Extension(msg: HandshakeType) = record {
    body : case mgs of {
        HandshakeType::client_hello -> hello : bytestring &restofdata;
        default                     -> other : bytestring &restofdata;
    };
};
