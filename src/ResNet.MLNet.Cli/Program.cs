using ResNet.MLNet.Cli;

return CliApp.Run(args);
