args: --login-delay 86401
rc: 100

# nothing sent, nothing answered
