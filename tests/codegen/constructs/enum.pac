## Alert levels.
enum AlertLevel : uint8 {
    ## Recoverable.
    warning = 1,
    fatal   = 2 "FATAL",
    severe  = 2 &alias,
}
