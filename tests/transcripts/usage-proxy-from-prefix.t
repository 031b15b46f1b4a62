args: --proxy-from 2001:db8::/129
rc: 100

# nothing sent, nothing answered
