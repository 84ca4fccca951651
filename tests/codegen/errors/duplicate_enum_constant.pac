enum AlertLevel : uint8 {
    warning = 1,
    warning = 2,
}
