enum AlertLevel : uint8 {
    warning = 1,
    fatal   = 2,
    severe  = 2,
}
