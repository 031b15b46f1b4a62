args: --login-delay 0
rc: 100

# nothing sent, nothing answered
