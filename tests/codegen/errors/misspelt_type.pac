# `unit8` for `uint8`: the help line names the closest type in scope.
type Hello = record {
    version : unit8;
    body    : bytestring &restofdata;
};
