# A warning, not an error: the generated parser still checks at run time.
type Hello = record {
    suites : uint16[] &length = 5;
};
