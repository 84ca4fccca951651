event ssl_extensions(c: connection, codes: index_vec);

type Extension(is_client: bool) = record {
    code : uint16;
    len_data : uint16;
    data : bytestring &length = len_data;
};

type Hello = record {
    len_exts : uint16;
    exts : Extension(true)[] &length = len_exts;
};

on Hello -> event ssl_extensions($conn, [e.code for e in self.exts]);
