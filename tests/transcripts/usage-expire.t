args: --expire 0
rc: 100

# nothing sent, nothing answered
