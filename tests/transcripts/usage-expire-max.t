args: --expire 3651
rc: 100

# nothing sent, nothing answered
