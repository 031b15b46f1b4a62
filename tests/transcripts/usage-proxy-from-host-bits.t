args: --proxy-from 10.0.0.1/8
rc: 100

# nothing sent, nothing answered
