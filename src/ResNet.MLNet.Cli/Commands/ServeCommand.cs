using System.CommandLine;
using ResNet.MLNet.Cli.Serving;

namespace ResNet.MLNet.Cli.Commands;

/// <summary><c>resnet-mlnet serve</c>: the saved model behind HTTP, with a web page, a JSON API and Grad-CAM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model.zip to serve (finetune's, or a classifier pipeline saved from the API); weights.safetensors beside it enables explanations.", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free one).", DefaultValueFactory = _ => 5000 };
        var maxBody = new Option<int>("--max-body-mb") { Description = "Largest upload in MB (413 beyond).", DefaultValueFactory = _ => 20 };
        var concurrent = new Option<int>("--max-concurrent") { Description = "Requests scored at once; more wait in a queue.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var queued = new Option<int>("--max-queued") { Description = "Requests waiting for a slot (503 beyond).", DefaultValueFactory = _ => 32 };
        var timeout = new Option<int>("--timeout-seconds") { Description = "Longest a prediction request may take (504 beyond).", DefaultValueFactory = _ => 30 };
        var maxPixels = ImageLimitOption.Create();
        var command = new Command("serve", "Serve a saved model over HTTP: a web page at /, POST /predict (image bytes or a multipart file; ?explain=true adds Grad-CAM), GET /health, GET /metadata.")
        {
            model, host, port, maxBody, concurrent, queued, timeout, maxPixels,
        };
        command.SetAction(parse => CliOutput.Guard(parse, () =>
        {
            foreach (var (option, value) in new[] { (maxBody.Name, parse.GetValue(maxBody)), (concurrent.Name, parse.GetValue(concurrent)), (timeout.Name, parse.GetValue(timeout)) })
                if (value < 1)
                    return CliOutput.Fail(parse, $"{option} must be at least 1; got {value}.");
            if (parse.GetValue(port) is < 0 or > 65535)
                return CliOutput.Fail(parse, $"--port must be in 0..65535; got {parse.GetValue(port)}.");
            if (parse.GetValue(queued) < 0)
                return CliOutput.Fail(parse, $"--max-queued must be at least 0; got {parse.GetValue(queued)}.");
            var options = new ServeOptions(parse.GetValue(model)!, parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(maxBody) * (1L << 20),
                parse.GetValue(concurrent), parse.GetValue(queued), TimeSpan.FromSeconds(parse.GetValue(timeout)), ImageLimitOption.Limits(parse, maxPixels));
            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var server = ModelServer.StartAsync(options, parse.InvocationConfiguration.Error).GetAwaiter().GetResult();
                parse.InvocationConfiguration.Output.WriteLine($"Serving {Path.GetFullPath(options.ModelPath)} on {server.Url} (Ctrl+C stops)");
                try
                {
                    server.WaitAsync(stop.Token).GetAwaiter().GetResult();
                }
                finally
                {
                    server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
                return 0;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }));
        return command;
    }
}
